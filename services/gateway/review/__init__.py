"""Human review of answers: items to rate, ratings by named raters, agreement between them."""
