"""The task worker: claims leased tasks and runs engines off the event loop."""
