"""Online serving: a Ray Serve application answering one audio question per request
(``app``) and a small HTTP client (``client``). Imports every role below it but the study.
"""
