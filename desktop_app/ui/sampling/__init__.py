"""The sampling panel: settings, the probability chart and what each sampler step did to a token."""
