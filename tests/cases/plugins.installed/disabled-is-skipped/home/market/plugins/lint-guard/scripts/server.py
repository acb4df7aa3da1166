# a stand-in MCP server that exits at once
