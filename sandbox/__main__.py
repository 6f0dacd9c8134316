"""Run the sandbox as an HTTP server."""

from sandbox.server import main

main()
