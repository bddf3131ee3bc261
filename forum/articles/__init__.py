"""Article threads made by themselves: first sight, the blog feed sync, the admin tools."""
