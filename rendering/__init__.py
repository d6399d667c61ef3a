"""Documents: letters (.docx), spreadsheets (.xlsx), charts and PDF conversion."""
