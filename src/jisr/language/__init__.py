"""Language: understand citizens in Arabic, Darija, Amazigh, French and English, locally.

    textinput        the checks every text input passes (empty, too large, binary, bad UTF-8)
    identify/        language and script identification (trained linear model, shipped)
    transliterate/   Tifinagh ⇄ Latin (IRCAM), Tifinagh → Arabic, Arabizi → Arabic script
    names/           cross-script person-name matching and a top-k name index
    finder/          the multilingual e-service finder over ``jisr.services.catalogue``

See ``docs/language.md``.
"""
