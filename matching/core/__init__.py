"""The pure core of matching: the product's words, plain records, name rules and the decisions.

Nothing here touches a database, a broker, the web or the settings: the shell gathers rows,
passes thresholds in as arguments and applies what the core returns.
"""
