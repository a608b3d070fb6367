"""Where threads and child processes serve the window and the command line.

The engine, the knowledge base, the API and the doctor.
"""
