"""The stages of a run, one module each, in the order the data flows through them."""
