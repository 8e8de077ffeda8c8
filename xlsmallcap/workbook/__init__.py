"""Workbooks: the template, the headless refresh and batch generation."""
