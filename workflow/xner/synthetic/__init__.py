"""Synthetic PAN-X data (``panx``, ``lexicons``) and tiny random encoders (``models``) for the offline demo and the tests: apart from the product path, which never imports them."""
