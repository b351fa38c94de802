"""What a manager reads: the figures of the Numbers page, the monthly retention report, the operations view and
the classifier measured on the practice's own corrections. Every figure is one SQL query."""
