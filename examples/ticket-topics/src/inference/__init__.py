"""Ticket topics: a scikit-learn model file (TF-IDF + logistic regression) on text without NLTK stop words."""
