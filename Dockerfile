# Two images from one file:
#   docker build --target service .    the product (the default, last stage)
#   docker build --target emulator .   the Stripe emulator, for offline runs only
# The service image holds no emulator code, and the emulator image no product code.

FROM python:3.11-slim AS python-base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN useradd --system --home /app app

FROM python-base AS emulator
COPY stripe_emulator/requirements.txt ./stripe_emulator/requirements.txt
RUN pip install --no-cache-dir -r stripe_emulator/requirements.txt
COPY stripe_emulator ./stripe_emulator
USER app
EXPOSE 12111
CMD ["python", "-m", "stripe_emulator", "--host", "0.0.0.0", "--port", "12111"]

FROM python-base AS service
COPY pyproject.toml README.md ./
COPY bokacheckout ./bokacheckout
COPY articles ./articles
COPY checkouts ./checkouts
COPY manage.py gunicorn.conf.py ./
RUN pip install --no-cache-dir .
# The admin's and the API docs' static files, which WhiteNoise serves under gunicorn.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && chown -R app /app
USER app
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
