"""Online serving: a Ray Serve application answering one audio question per request."""
