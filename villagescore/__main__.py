from villagescore.cli import main

main()
