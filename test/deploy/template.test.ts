// What `sls package` builds from serverless.yml: the stack's resources and roles, and function zips that run.

import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { LAMBDA_POOL_DEFAULTS } from '../../lib/config/pool-settings.ts';
import {
  asList,
  deployedResources,
  type Json,
  type JsonObject,
  ofType,
  type PolicyStatement,
  type Resource,
  readTemplate,
  roleStatements,
} from './cloudformation.ts';
import { extractZip, readZip } from './zip.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const PACKAGE_TIMEOUT_MS = 240_000;

// `sls package` empties <service>/.serverless and <service>/.esbuild whatever --package says, so it runs on a
// copy of the working tree: a developer's own package, or another test run, is never deleted half-way.
const NOT_COPIED = new Set([
  'node_modules',
  '.git',
  '.loadwatch',
  '.serverless',
  '.esbuild',
  'coverage',
  'test-results',
]);

// CloudFormation's own placeholders, for Fn::Sub: escaped, not JavaScript's.
const DBUSER_ARN = `arn:\${AWS::Partition}:rds-db:\${AWS::Region}:\${AWS::AccountId}:dbuser:\${ResourceId}/loadwatch`;
const SECRET_FIELD = (field: string) => `{{resolve:secretsmanager:\${DatabaseSecret}:SecretString:${field}}}`;

/** Existing-database mode as a user would configure it on the command line. */
const EXISTING_DATABASE = {
  createDatabase: 'false',
  dbProxyEndpoint: 'shared.proxy-c0ffee.eu-west-1.rds.amazonaws.com',
  dbDirectEndpoint: 'shared.c0ffee.eu-west-1.rds.amazonaws.com',
  dbSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shared-db-AbCdEf',
  dbProxyResourceId: 'prx-0123456789abcdef0',
  vpcSecurityGroupIds: 'sg-0123456789abcdef0',
};

/** What CloudFormation puts in place of the managed database's attributes at deploy time. */
const MANAGED_VALUES: { intrinsic: Json; value: string }[] = [
  {
    intrinsic: { 'Fn::GetAtt': ['DatabaseProxy', 'Endpoint'] },
    value: 'loadwatch-prod.proxy-c0ffee.us-east-1.rds.amazonaws.com',
  },
  {
    intrinsic: { 'Fn::GetAtt': ['DatabaseInstance', 'Endpoint.Address'] },
    value: 'loadwatch-prod.c0ffee.us-east-1.rds.amazonaws.com',
  },
  {
    intrinsic: { Ref: 'DatabaseSecret' },
    value: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:loadwatch-prod-db-AbCdEf',
  },
];

function copyProject(into: string): void {
  mkdirSync(into);
  for (const entry of readdirSync(root)) {
    if (!NOT_COPIED.has(entry)) cpSync(join(root, entry), join(into, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(into, 'node_modules'), 'dir');
}

async function slsPackage(project: string, out: string, args: string[]): Promise<void> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
    // No AWS account at all: packaging must resolve nothing through AWS.
    AWS_SHARED_CREDENTIALS_FILE: join(out, 'no-credentials'),
    AWS_CONFIG_FILE: join(out, 'no-config'),
  };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) {
    delete env[name];
  }
  try {
    await run('npx', ['sls', 'package', '--package', out, ...args], {
      cwd: project,
      env,
      timeout: PACKAGE_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`sls package ${args.join(' ')} failed:\n${stdout ?? ''}\n${stderr ?? ''}`, {
      cause: error,
    });
  }
}

function resource(resources: Record<string, Resource>, id: string): Resource {
  const found = resources[id];
  if (!found) throw new Error(`no resource ${id}; have ${Object.keys(resources).join(', ')}`);
  return found;
}

function environmentOf(lambda: Resource): Record<string, Json> {
  return (lambda.Properties.Environment as { Variables: Record<string, Json> }).Variables;
}

/** The environment a deployed function sees: intrinsic values replaced by what CloudFormation would put there. */
function deployedEnvironment(lambda: Resource): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(environmentOf(lambda))) {
    if (typeof value === 'string') {
      env[name] = value;
      continue;
    }
    const known = MANAGED_VALUES.find(({ intrinsic }) => JSON.stringify(intrinsic) === JSON.stringify(value));
    if (!known) throw new Error(`${name}: unexpected value ${JSON.stringify(value)}`);
    env[name] = known.value;
  }
  return env;
}

function statementsWith(statements: PolicyStatement[], action: string): PolicyStatement[] {
  return statements.filter((statement) => asList(statement.Action).includes(action));
}

const IMPORT_HANDLER_SCRIPT = `
  const { handler } = await import(process.argv[1]);
  console.log(typeof handler);
`;

const HEALTH_SCRIPT = `${IMPORT_HANDLER_SCRIPT}
  const event = {
    version: '2.0', routeKey: '$default', rawPath: '/health', rawQueryString: '', headers: { host: 'api.test' },
    isBase64Encoded: false,
    requestContext: {
      http: { method: 'GET', path: '/health', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'test-request', routeKey: '$default', stage: '$default', accountId: '123456789012',
      apiId: 'test', domainName: 'api.test', domainPrefix: 'api', time: '', timeEpoch: 0,
    },
  };
  const context = { awsRequestId: 'test', functionName: 'loadwatch-prod-api', getRemainingTimeInMillis: () => 29000 };
  console.log(JSON.stringify(await handler(event, context)));
`;

const MIGRATE_STATUS_SCRIPT = `${IMPORT_HANDLER_SCRIPT}
  const outcome = await handler({ action: 'status' }).then(
    (result) => ({ resolved: result }),
    (error) => ({ rejected: error.code ?? error.message }),
  );
  console.log(JSON.stringify(outcome));
`;

/** Runs a script that imports a bundle, with only the given environment (and no AWS credentials of ours). */
async function runBundle(bundle: string, script: string, env: Record<string, string>): Promise<string[]> {
  try {
    const { stdout } = await run(
      'npx',
      ['node', '--input-type=module', '-e', script, pathToFileURL(bundle).href],
      {
        cwd: root,
        env: { AWS_REGION: 'us-east-1', ...env, PATH: process.env.PATH, HOME: process.env.HOME },
        timeout: 60_000,
      },
    );
    return stdout.trim().split('\n');
  } catch (error) {
    // Node quotes the failing source line, which in a minified bundle is the whole bundle.
    const stderr = ((error as { stderr?: string }).stderr ?? '')
      .split('\n')
      .filter((line) => line.length < 500);
    throw new Error(`${bundle} failed:\n${stderr.join('\n')}`, { cause: error });
  }
}

/** A TCP listener in place of PostgreSQL: counts who dials it and hangs up on them. */
async function listenLikeDatabase(): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const listener = {
    port: 0,
    connections: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = createServer((socket) => {
    listener.connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  listener.port = (server.address() as { port: number }).port;
  return listener;
}

describe('serverless package', () => {
  let work: string;
  let managedOut: string;
  let managed: Record<string, Resource>;
  let existing: Record<string, Resource>;

  beforeAll(
    async () => {
      work = mkdtempSync(join(tmpdir(), 'loadwatch-package-'));
      const project = join(work, 'project');
      copyProject(project);
      managedOut = join(work, 'prod');
      await slsPackage(project, managedOut, ['--stage', 'prod']);
      const existingOut = join(work, 'existing');
      const params = Object.entries(EXISTING_DATABASE).map(([name, value]) => `--param=${name}=${value}`);
      await slsPackage(project, existingOut, ['--stage', 'dev', '--region', 'eu-west-1', ...params]);
      managed = deployedResources(
        readTemplate(join(managedOut, 'cloudformation-template-update-stack.json')),
      );
      existing = deployedResources(
        readTemplate(join(existingOut, 'cloudformation-template-update-stack.json')),
      );
    },
    2 * PACKAGE_TIMEOUT_MS + 10_000,
  );

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('builds both functions for Node.js 22 on arm64 when packaged for prod', () => {
    const functions = Object.fromEntries(ofType(managed, 'AWS::Lambda::Function'));
    expect(Object.keys(functions).sort()).toEqual(['ApiLambdaFunction', 'MigrateLambdaFunction']);
    expect(resource(functions, 'ApiLambdaFunction').Properties).toMatchObject({
      FunctionName: 'loadwatch-prod-api',
      Handler: 'functions/api.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 29,
    });
    expect(resource(functions, 'MigrateLambdaFunction').Properties).toMatchObject({
      FunctionName: 'loadwatch-prod-migrate',
      Handler: 'functions/migrate.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 300,
    });
  });

  it('sends every method and path to the api function when the HTTP API is created', () => {
    const routes = ofType(managed, 'AWS::ApiGatewayV2::Route');
    expect(routes).toHaveLength(1);
    const [[, route] = []] = routes;
    expect(route?.Properties.RouteKey).toBe('$default');
    const integrations = ofType(managed, 'AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(1);
    const [[integrationId, integration] = []] = integrations;
    expect(route?.Properties.Target).toEqual({ 'Fn::Join': ['/', ['integrations', { Ref: integrationId }]] });
    expect(integration?.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::GetAtt': ['ApiLambdaFunction', 'Arn'] },
      PayloadFormatVersion: '2.0',
    });
  });

  it('leaves CORS to the API middleware when API Gateway fronts the API', () => {
    const apis = ofType(managed, 'AWS::ApiGatewayV2::Api');
    expect(apis).toHaveLength(1);
    for (const [, api] of apis) expect(api.Properties).not.toHaveProperty('CorsConfiguration');
    expect(environmentOf(resource(managed, 'ApiLambdaFunction'))).toMatchObject({
      CORS_ORIGINS: '',
      CORS_CREDENTIALS: 'false',
      CORS_MAX_AGE: '600',
    });
  });

  it('creates an encrypted private PostgreSQL 17 instance kept on delete when the stage is prod', () => {
    const instance = resource(managed, 'DatabaseInstance');
    expect(instance.Type).toBe('AWS::RDS::DBInstance');
    expect(instance.Properties).toMatchObject({
      Engine: 'postgres',
      EngineVersion: '17',
      StorageEncrypted: true,
      PubliclyAccessible: false,
      DeletionProtection: true,
      MultiAZ: true,
      DBSubnetGroupName: { Ref: 'DatabaseSubnetGroup' },
      VPCSecurityGroups: [{ Ref: 'DatabaseSecurityGroup' }],
    });
    expect(instance.DeletionPolicy).toBe('Snapshot');
    expect(instance.UpdateReplacePolicy).toBe('Snapshot');
    expect(resource(managed, 'DatabaseSubnetGroup').Type).toBe('AWS::RDS::DBSubnetGroup');
  });

  it('puts RDS Proxy with TLS and IAM auth in front of the instance when the database is managed', () => {
    const proxy = resource(managed, 'DatabaseProxy');
    expect(proxy.Type).toBe('AWS::RDS::DBProxy');
    expect(proxy.Properties).toMatchObject({
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      RoleArn: { 'Fn::GetAtt': ['DatabaseProxyRole', 'Arn'] },
      VpcSecurityGroupIds: [{ Ref: 'ProxySecurityGroup' }],
      Auth: [{ AuthScheme: 'SECRETS', SecretArn: { Ref: 'DatabaseSecret' }, IAMAuth: 'REQUIRED' }],
    });
    const targetGroup = resource(managed, 'DatabaseProxyTargetGroup');
    expect(targetGroup.Type).toBe('AWS::RDS::DBProxyTargetGroup');
    expect(targetGroup.Properties).toMatchObject({
      DBProxyName: { Ref: 'DatabaseProxy' },
      TargetGroupName: 'default',
      DBInstanceIdentifiers: [{ Ref: 'DatabaseInstance' }],
      ConnectionPoolConfigurationInfo: {
        MaxConnectionsPercent: 75,
        MaxIdleConnectionsPercent: 35,
        SessionPinningFilters: [],
      },
    });
    // A saturated pool must answer before API Gateway and Lambda give up on the request.
    const pool = targetGroup.Properties.ConnectionPoolConfigurationInfo as {
      ConnectionBorrowTimeout: number;
    };
    expect(pool.ConnectionBorrowTimeout).toBeLessThan(
      resource(managed, 'ApiLambdaFunction').Properties.Timeout as number,
    );
  });

  it('keeps the master password in a generated secret that only the proxy and migrate read when managed', () => {
    const secret = resource(managed, 'DatabaseSecret');
    expect(secret.Type).toBe('AWS::SecretsManager::Secret');
    expect(secret.Properties.GenerateSecretString).toMatchObject({
      SecretStringTemplate: '{"username":"loadwatch"}',
      GenerateStringKey: 'password',
    });
    expect(secret.DeletionPolicy).toBe('Retain');
    expect(resource(managed, 'DatabaseInstance').Properties).toMatchObject({
      MasterUsername: { 'Fn::Sub': SECRET_FIELD('username') },
      MasterUserPassword: { 'Fn::Sub': SECRET_FIELD('password') },
    });
    const readers = Object.entries(managed)
      .filter(([, candidate]) => candidate.Type === 'AWS::IAM::Role')
      .filter(([, role]) => statementsWith(roleStatements(role), 'secretsmanager:GetSecretValue').length > 0)
      .map(([id]) => id);
    expect(readers.sort()).toEqual(['DatabaseProxyRole', 'MigrateFunctionRole']);
    for (const id of readers) {
      for (const statement of statementsWith(
        roleStatements(resource(managed, id)),
        'secretsmanager:GetSecretValue',
      )) {
        expect(statement.Resource).toEqual({ Ref: 'DatabaseSecret' });
      }
    }
  });

  it('gives each function its own role with no wildcard action when packaged', () => {
    expect(resource(managed, 'ApiLambdaFunction').Properties.Role).toEqual({
      'Fn::GetAtt': ['ApiFunctionRole', 'Arn'],
    });
    expect(resource(managed, 'MigrateLambdaFunction').Properties.Role).toEqual({
      'Fn::GetAtt': ['MigrateFunctionRole', 'Arn'],
    });
    expect(managed).not.toHaveProperty('IamRoleLambdaExecution');
    for (const resources of [managed, existing]) {
      const roles = ofType(resources, 'AWS::IAM::Role');
      expect(roles.length).toBeGreaterThanOrEqual(2);
      for (const [id, role] of roles) {
        // Managed policies such as AWSLambdaVPCAccessExecutionRole allow logs:* on every log group.
        expect(role.Properties, id).not.toHaveProperty('ManagedPolicyArns');
        for (const statement of roleStatements(role)) {
          const actions = asList(statement.Action);
          expect(actions, `${id} ${statement.Sid ?? ''}`).not.toContain('*');
          if (asList(statement.Resource).includes('*')) {
            for (const action of actions) expect(action, `${id} ${statement.Sid ?? ''}`).not.toMatch(/\*/);
          }
        }
      }
    }
    for (const [role, name] of [
      ['ApiFunctionRole', 'api'],
      ['MigrateFunctionRole', 'migrate'],
    ] as const) {
      const logs = roleStatements(resource(managed, role)).filter((statement) =>
        asList(statement.Action).some((action) => action.startsWith('logs:')),
      );
      expect(logs).toEqual([
        expect.objectContaining({
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: {
            'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/loadwatch-prod-${name}:*`,
          },
        }),
      ]);
    }
  });

  it('lets only the api connect, through the proxy and as the database user, when the database is managed', () => {
    const api = statementsWith(roleStatements(resource(managed, 'ApiFunctionRole')), 'rds-db:connect');
    expect(api).toEqual([
      expect.objectContaining({
        Resource: {
          'Fn::Sub': [
            DBUSER_ARN,
            {
              ResourceId: {
                'Fn::Select': [6, { 'Fn::Split': [':', { 'Fn::GetAtt': ['DatabaseProxy', 'DBProxyArn'] }] }],
              },
            },
          ],
        },
      }),
    ]);
    expect(
      statementsWith(roleStatements(resource(managed, 'MigrateFunctionRole')), 'rds-db:connect'),
    ).toEqual([]);
    expect(
      statementsWith(roleStatements(resource(managed, 'ApiFunctionRole')), 'secretsmanager:GetSecretValue'),
    ).toEqual([]);
  });

  it('runs both functions in the VPC behind the one group the proxy and database admit when managed', () => {
    const subnets = resource(managed, 'DatabaseSubnetGroup').Properties.SubnetIds;
    expect(resource(managed, 'DatabaseProxy').Properties.VpcSubnetIds).toEqual(subnets);
    for (const id of ['ApiLambdaFunction', 'MigrateLambdaFunction']) {
      expect(resource(managed, id).Properties.VpcConfig).toEqual({
        SecurityGroupIds: [{ Ref: 'FunctionSecurityGroup' }],
        SubnetIds: subnets,
      });
    }
    const ingress = (id: string) =>
      (resource(managed, id).Properties.SecurityGroupIngress as JsonObject[]).map((rule) => ({
        port: rule.FromPort,
        toPort: rule.ToPort,
        from: rule.SourceSecurityGroupId,
      }));
    expect(ingress('ProxySecurityGroup')).toEqual([
      { port: 5432, toPort: 5432, from: { Ref: 'FunctionSecurityGroup' } },
    ]);
    expect(ingress('DatabaseSecurityGroup')).toEqual([
      { port: 5432, toPort: 5432, from: { Ref: 'ProxySecurityGroup' } },
      { port: 5432, toPort: 5432, from: { Ref: 'FunctionSecurityGroup' } },
    ]);
  });

  it('points migrate at the direct endpoint and never at the proxy when packaged', () => {
    const env = environmentOf(resource(managed, 'MigrateLambdaFunction'));
    expect(env).not.toHaveProperty('DB_PROXY_ENDPOINT');
    expect(env).toMatchObject({
      DB_DIRECT_ENDPOINT: { 'Fn::GetAtt': ['DatabaseInstance', 'Endpoint.Address'] },
      DB_IAM_AUTH: 'false',
      DB_SECRET_ARN: { Ref: 'DatabaseSecret' },
    });
    const config = loadConfig({
      ...deployedEnvironment(resource(managed, 'MigrateLambdaFunction')),
      AWS_LAMBDA_FUNCTION_NAME: 'loadwatch-prod-migrate',
      AWS_REGION: 'us-east-1',
    });
    expect(config.database).toMatchObject({
      mode: 'external',
      migrations: {
        host: 'loadwatch-prod.c0ffee.us-east-1.rds.amazonaws.com',
        via: 'direct',
        auth: { kind: 'secret' },
        ssl: 'verify',
      },
    });
  });

  it('points the api at the proxy with IAM auth and the Lambda pool defaults when the database is managed', () => {
    const env = environmentOf(resource(managed, 'ApiLambdaFunction'));
    expect(env).not.toHaveProperty('DB_DIRECT_ENDPOINT');
    expect(env).toMatchObject({
      STAGE: 'prod',
      SERVICE_NAME: 'loadwatch',
      NODE_OPTIONS: '--enable-source-maps',
      DB_PROXY_ENDPOINT: { 'Fn::GetAtt': ['DatabaseProxy', 'Endpoint'] },
      DB_IAM_AUTH: 'true',
    });
    const config = loadConfig({
      ...deployedEnvironment(resource(managed, 'ApiLambdaFunction')),
      AWS_LAMBDA_FUNCTION_NAME: 'loadwatch-prod-api',
      AWS_REGION: 'us-east-1',
    });
    expect(config).toMatchObject({ stage: 'prod', service: 'loadwatch', pool: LAMBDA_POOL_DEFAULTS });
    expect(config.database).toMatchObject({
      mode: 'external',
      api: {
        host: 'loadwatch-prod.proxy-c0ffee.us-east-1.rds.amazonaws.com',
        port: 5432,
        database: 'loadwatch',
        user: 'loadwatch',
        via: 'proxy',
        auth: { kind: 'iam', region: 'us-east-1' },
      },
      migrations: null,
    });
  });

  it('creates no database and passes the given endpoints as plain values when createDatabase is false', () => {
    const created = Object.values(existing).map((candidate) => candidate.Type);
    for (const type of created) expect(type).not.toMatch(/^AWS::(RDS|SecretsManager|EC2)::/);
    const api = resource(existing, 'ApiLambdaFunction');
    const migrate = resource(existing, 'MigrateLambdaFunction');
    // Plain strings only: nothing for `sls invoke local` or a reader of the console to resolve.
    for (const lambda of [api, migrate]) {
      for (const value of Object.values(environmentOf(lambda))) expect(typeof value).toBe('string');
      expect(lambda.Properties.VpcConfig).toMatchObject({
        SecurityGroupIds: [EXISTING_DATABASE.vpcSecurityGroupIds],
      });
    }
    expect(environmentOf(api)).toMatchObject({
      DB_PROXY_ENDPOINT: EXISTING_DATABASE.dbProxyEndpoint,
      DB_IAM_AUTH: 'true',
    });
    expect(environmentOf(migrate)).toMatchObject({
      DB_DIRECT_ENDPOINT: EXISTING_DATABASE.dbDirectEndpoint,
      DB_IAM_AUTH: 'false',
      DB_SECRET_ARN: EXISTING_DATABASE.dbSecretArn,
    });
    expect(environmentOf(migrate)).not.toHaveProperty('DB_PROXY_ENDPOINT');
    expect(statementsWith(roleStatements(resource(existing, 'ApiFunctionRole')), 'rds-db:connect')).toEqual([
      expect.objectContaining({
        Resource: {
          'Fn::Sub': [DBUSER_ARN, { ResourceId: EXISTING_DATABASE.dbProxyResourceId }],
        },
      }),
    ]);
    expect(
      statementsWith(
        roleStatements(resource(existing, 'MigrateFunctionRole')),
        'secretsmanager:GetSecretValue',
      ),
    ).toEqual([expect.objectContaining({ Resource: EXISTING_DATABASE.dbSecretArn })]);
    expect(() =>
      loadConfig({
        ...deployedEnvironment(migrate),
        AWS_LAMBDA_FUNCTION_NAME: 'migrate',
        AWS_REGION: 'eu-west-1',
      }),
    ).not.toThrow();
  });

  it('ships the migrations beside an .mjs bundle and its source map in each zip when packaged individually', () => {
    const migrations = readdirSync(join(root, 'migrations'))
      .filter((file) => file.endsWith('.sql'))
      .map((file) => `migrations/${file}`);
    expect(migrations).toContain('migrations/0001_api-tokens.sql');
    for (const [name, other] of [
      ['api', 'migrate'],
      ['migrate', 'api'],
    ]) {
      const entries = readZip(join(managedOut, `${name}.zip`)).map((entry) => entry.name);
      expect(entries).toEqual(
        expect.arrayContaining([`functions/${name}.mjs`, `functions/${name}.mjs.map`, ...migrations]),
      );
      expect(entries).not.toContain(`functions/${other}.mjs`);
      expect(entries.filter((entry) => entry.startsWith('node_modules/') || entry.endsWith('.ts'))).toEqual(
        [],
      );
    }
  });

  it('loads the api bundle and answers /health without touching the database when run with its deployed env', async () => {
    const dir = join(work, 'api-bundle');
    extractZip(join(managedOut, 'api.zip'), dir);
    const database = await listenLikeDatabase();
    try {
      const lines = await runBundle(join(dir, 'functions/api.mjs'), HEALTH_SCRIPT, {
        ...deployedEnvironment(resource(managed, 'ApiLambdaFunction')),
        DB_PROXY_ENDPOINT: '127.0.0.1',
        DB_PORT: String(database.port),
        AWS_LAMBDA_FUNCTION_NAME: 'loadwatch-prod-api',
      });
      expect(lines[0]).toBe('function');
      const response = JSON.parse(lines.at(-1) ?? '{}') as { statusCode: number; body: string };
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({
        status: 'ok',
        service: 'loadwatch',
        stage: 'prod',
        version: packageJson.version,
      });
    } finally {
      await database.close();
    }
    expect(database.connections).toBe(0);
  });

  it('loads the migrate bundle and dials the direct endpoint when asked for the status', async () => {
    const dir = join(work, 'migrate-bundle');
    extractZip(join(managedOut, 'migrate.zip'), dir);
    const database = await listenLikeDatabase();
    try {
      const lines = await runBundle(join(dir, 'functions/migrate.mjs'), MIGRATE_STATUS_SCRIPT, {
        ...deployedEnvironment(resource(managed, 'MigrateLambdaFunction')),
        DB_DIRECT_ENDPOINT: '127.0.0.1',
        DB_PORT: String(database.port),
        // IAM instead of the secret, so that nothing has to reach Secrets Manager before the connection.
        DB_IAM_AUTH: 'true',
        DB_SECRET_ARN: '',
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        AWS_LAMBDA_FUNCTION_NAME: 'loadwatch-prod-migrate',
      });
      expect(lines[0]).toBe('function');
      expect(JSON.parse(lines.at(-1) ?? '{}')).toEqual({ rejected: 'DB_UNAVAILABLE' });
    } finally {
      await database.close();
    }
    expect(database.connections).toBeGreaterThan(0);
  });
});
