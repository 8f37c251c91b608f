"""A fifth product, built on the kit alone, for the kit's registration tests: everything a
product team writes (test_product_registration.py lists it). Installed only inside those tests."""
