from deltastream.client.cli import main

raise SystemExit(main())
