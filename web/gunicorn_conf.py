"""gunicorn settings for Aftercare: `gunicorn -c python:web.gunicorn_conf 'app:create_app()'`.

When an access log is on (`--access-logfile`), it names the path without its query string: `GET /api/patients?phone=+1…` must not
write a patient's phone number to the log.
"""

access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
