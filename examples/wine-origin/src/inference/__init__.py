"""Wine cultivar from 13 chemical measurements: a scikit-learn model committed beside the code."""
