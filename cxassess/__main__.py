from cxassess.cli import main

raise SystemExit(main())
