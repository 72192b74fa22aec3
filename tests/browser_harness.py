"""A real Chromium for the console's tests: Debian's chromium and chromium-driver, installed
with apt-get when missing (as root), driven by selenium. Never a downloaded browser:
selenium is pointed at the system driver, so its own browser manager stays idle.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

PACKAGES = ("chromium", "chromium-driver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage", "--window-size=1280,1000")


def ensure_installed() -> tuple[str, str]:
    """(chromium, chromedriver), installing Debian's packages when they are missing."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("chromium is not installed: apt-get install chromium "
                           "chromium-driver (needs root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]
    if subprocess.run(command, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=True)
        subprocess.run(command, env=env, capture_output=True, check=True)
    return shutil.which("chromium") or "/usr/bin/chromium", (
        shutil.which("chromedriver") or "/usr/bin/chromedriver")


def start(profile: Path, downloads: Path) -> webdriver.Chrome:
    """A headless Chromium with a fresh profile that saves downloads to ``downloads``."""
    browser, driver = ensure_installed()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False})
    chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    chrome.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    return chrome
