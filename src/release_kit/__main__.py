from release_kit.cli import main

main()
