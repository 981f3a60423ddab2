from guanjia.cli import main

main()
