# The function app in a container (the Azure Functions Python base image), for compose.yaml and for
# Kubernetes with KEDA. On Azure the function app runs on Flex Consumption instead (infra/main.bicep).
# Build from the repository root:  docker build -f infra/container/functions.Dockerfile -t call-center-functions .
FROM mcr.microsoft.com/azure-functions/python:4-python3.11

ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /home/site/wwwroot
COPY requirements.txt ./
RUN pip install --requirement requirements.txt

COPY host.json function_app.py ./
COPY blueprints ./blueprints
COPY shared ./shared

RUN groupadd --system --gid 10002 functions \
    && useradd --system --uid 10002 --gid functions --no-create-home --shell /usr/sbin/nologin functions
USER 10002:10002
EXPOSE 8080
ENV ASPNETCORE_URLS=http://+:8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/api/health/liveness', timeout=4)"]
