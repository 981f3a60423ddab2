#!/usr/bin/env python
from guanjia.cli import main

if __name__ == "__main__":
    main()
