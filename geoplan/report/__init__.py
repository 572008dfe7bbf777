"""Study reports: one PDF and its HTML twin (title, method, map, ranking, dossiers, sources).

May import io, measure, streets, indicators, transit, decide, study, choose and maps;
only the CLI stands above it.
"""

from geoplan.report.build import ReportFiles, report_html, study_report

__all__ = ["ReportFiles", "report_html", "study_report"]
