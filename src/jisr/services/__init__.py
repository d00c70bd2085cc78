"""Services: the e-services citizens request from the administrations of Morocco and Qatar.

    catalogue/   one JSON file per service (administration, country, texts in ar, ary,
                 zgh, fr, en) and the typed loader :func:`catalogue.load_catalogue`

See ``docs/services-catalogue.md``.
"""
