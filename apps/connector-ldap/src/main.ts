import { runConnector } from '@grantline/connector-host';
import { ldapConnector } from './connector';

void runConnector(ldapConnector);
