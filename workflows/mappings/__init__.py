"""The mapping procedures' service tasks: the biennial needs mapping and the annual response
mapping, which feed the IISG database."""
