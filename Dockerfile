# The shadowqa image the Helm chart (helm/shadowqa) deploys: one image, the `shadowqa` entry point, every role
# chosen by its arguments and configured by SHADOWQA_* environment variables.
# Not built on the project's machines (no container engine runs there): see helm/README.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --user-group shadowqa

WORKDIR /src
COPY pyproject.toml README.md ./
COPY analysis analysis
COPY services services
COPY streams streams
RUN pip install . \
    # the automation role's reference models must be inside the installed package
    && python -c "from services.engine.loading import WEIGHTS; assert (WEIGHTS / 'driving-detector.pt').is_file(), WEIGHTS" \
    && rm -rf /src

USER 10001:10001
WORKDIR /home/shadowqa
ENTRYPOINT ["shadowqa"]
CMD ["--help"]
