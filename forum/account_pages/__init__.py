"""The reader's account pages (issue 17): every link an email carries opens one of them."""
