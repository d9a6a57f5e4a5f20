"""Review sentiment: NLTK's VADER on each review, cut to the window of the MiniLM tokenizer first."""
