"""LLM prompt templates, one text file per version (classify_v1.txt); read with importlib.resources."""
