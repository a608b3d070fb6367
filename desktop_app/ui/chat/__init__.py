"""The conversation.

Transcript, options dock, chats sidebar, and the session that drives replies.
"""
