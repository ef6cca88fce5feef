"""The request pipeline: every request, from any client, passes the same steps (see ``app``)."""
