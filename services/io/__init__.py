"""Reading and writing the files shadowqa works on."""
