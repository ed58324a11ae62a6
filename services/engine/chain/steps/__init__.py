"""The step kinds, one module each; :mod:`services.engine.chain.registry` imports them all."""
