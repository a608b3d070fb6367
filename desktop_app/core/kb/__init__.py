"""The knowledge base: documents parsed, chunked, embedded into Chroma and searched.

SQLite (``registry``) is the source of truth for collections, documents, chunks and
their vectors; Chroma (``index``) is a search index rebuilt from it at will. Heavy
libraries (chromadb, sentence-transformers, parsers) are imported inside the
functions that need them, so importing this package stays cheap.
"""
