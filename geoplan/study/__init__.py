"""A study end to end: study files and their checks, scoring and ranking the sites.

Holds ``files`` (load_study, Study), ``_checks``, ``scoring`` (Criterion, ``kinds``) and ``ranking``.
May import io, measure, streets, indicators, transit and decide; choose, maps and the CLI stand above.
"""

from geoplan.study.files import Study, load_study, study_from_dict
from geoplan.study.ranking import explain_site, rank_sites, score_sites, study_sites

__all__ = [
    "Study",
    "explain_site",
    "load_study",
    "rank_sites",
    "score_sites",
    "study_from_dict",
    "study_sites",
]
