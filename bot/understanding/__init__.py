"""Understanding a patient's reply: guards, the LLM and local classifiers, redaction, evaluation."""
