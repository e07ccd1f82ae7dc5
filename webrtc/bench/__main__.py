import sys

from webrtc.bench import main

sys.exit(main())
