"""Audio-QA data: the stored schema's reader/writer, the built-in suite, importers."""
