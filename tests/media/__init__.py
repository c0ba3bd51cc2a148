"""Tests of the media host and its wire protocol."""
