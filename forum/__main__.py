from forum.cli import main

if __name__ == "__main__":  # render workers (spawn) import this module: no second server
    main()
