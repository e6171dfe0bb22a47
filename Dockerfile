FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bokacheckout ./bokacheckout
COPY articles ./articles
COPY checkouts ./checkouts
COPY manage.py ./
RUN pip install --no-cache-dir .
# The admin's and the API docs' static files, which WhiteNoise serves under gunicorn.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

RUN useradd --system --home /app bokacheckout && chown -R bokacheckout /app
USER bokacheckout

EXPOSE 8000
CMD ["gunicorn", "bokacheckout.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
