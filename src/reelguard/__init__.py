"""reelguard: a self-hostable content-protection and anti-piracy platform.

Protect (DRM), trace (forensic watermarking), find (piracy monitoring) and act
(enforcement). See ARCHITECTURE in the docs for the data walk.
"""

__version__ = "0.1.0"  # the one place the version is written (pyproject reads it)
