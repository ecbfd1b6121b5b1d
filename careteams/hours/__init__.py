"""Hours: timesheets both sides confirm, rates, pay and invoice runs, a fair-pay check and figures."""
