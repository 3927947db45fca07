"""tuOtempO's vocabulary, shared by every adapter that speaks it (webservices, Sincro, file exchange):
the guide's field names for the hospital's things, and its formats. The domain never imports it."""
