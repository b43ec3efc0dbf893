"""Alarms (dead letters, worker errors, API 5xx rate) sent to an SNS topic, and a small
dashboard."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from chalice.cdk import Chalice
from constructs import Construct

from glint_infra.functions import (DEAD_LETTERS_FUNCTION, REAPER_FUNCTION, SCRUBBER_FUNCTION,
                                   SWEEP_FUNCTION, WORKER_FUNCTION)
from glint_infra.suppressions import accept

PIPELINE = (WORKER_FUNCTION, DEAD_LETTERS_FUNCTION, REAPER_FUNCTION, SCRUBBER_FUNCTION,
            SWEEP_FUNCTION)

# Share of API requests answered 5xx, over 5 minutes, before someone is told.
API_5XX_RATE = 0.05
_PERIOD = cdk.Duration.minutes(5)


def monitor(scope: Construct, app: Chalice, name: str, dlq: sqs.IQueue) -> list[cw.Alarm]:
    """Alarms and a dashboard for the stage `name` (also its API's name); returns the alarms,
    which tell the alarm topic when they fire and when they clear."""
    dead_letters = dlq.metric_approximate_number_of_messages_visible(period=_PERIOD,
                                                                    statistic="Maximum")
    errors = {name: cw.Metric(namespace="AWS/Lambda", metric_name="Errors", period=_PERIOD,
                              statistic="Sum",
                              dimensions_map={"FunctionName": app.get_resource(name).ref})
              for name in PIPELINE}
    # API Gateway's 5XXError is 0 or 1 per request, so its average is the 5xx rate.
    api_5xx = cw.Metric(namespace="AWS/ApiGateway", metric_name="5XXError", period=_PERIOD,
                        statistic="Average", dimensions_map={"ApiName": name})
    api_requests = cw.Metric(namespace="AWS/ApiGateway", metric_name="Count", period=_PERIOD,
                             statistic="Sum", dimensions_map={"ApiName": name})
    alarms = [
        # The dead-letter handler drains the DLQ; messages that stay there failed it too.
        _alarm(scope, "DeadLetters", dead_letters, 0,
               "Imports failed repeatedly and sit in the dead-letter queue."),
        *(_alarm(scope, f"{name}Errors", metric, 0,
                 f"{name} raised: an import is retried, then dead-lettered, then failed.")
          for name, metric in errors.items()),
        _alarm(scope, "Api5xxRate", api_5xx, API_5XX_RATE,
               f"More than {API_5XX_RATE:.0%} of API requests failed with a 5xx."),
    ]
    action = cw_actions.SnsAction(alarm_topic(scope, name))
    for alarm in alarms:
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
    dashboard = cw.Dashboard(scope, "Dashboard", dashboard_name=name)
    dashboard.add_widgets(
        cw.GraphWidget(title="API requests and 5xx rate", left=[api_requests], right=[api_5xx]),
        cw.GraphWidget(title="Import pipeline errors", left=list(errors.values())),
        cw.GraphWidget(title="Dead letters", left=[dead_letters]),
        cw.AlarmStatusWidget(title="Alarms", alarms=alarms),
    )
    return alarms


def alarm_topic(scope: Construct, name: str) -> sns.Topic:
    """The topic every alarm notifies, with an email subscription when the `AlarmEmail`
    parameter is given (`cdk deploy --parameters AlarmEmail=oncall@example.org`)."""
    topic = sns.Topic(scope, "AlarmTopic", display_name=f"{name} alarms", enforce_ssl=True)
    accept(topic.node.default_child, checkov={
        "CKV_AWS_26": "Alarm notifications carry alarm names and states only. CloudWatch can "
                      "publish to an encrypted topic only through a customer-managed KMS key, "
                      "which bills every month even when idle."})
    email = cdk.CfnParameter(scope, "AlarmEmail", type="String", default="",
                             allowed_pattern=r"^$|^[^@\s]+@[^@\s]+$",
                             description="Where alarms are mailed (confirm the subscription "
                                         "mail AWS sends); empty: subscribe to the topic later.")
    subscription = sns.CfnSubscription(scope, "AlarmEmailSubscription", protocol="email",
                                       topic_arn=topic.topic_arn, endpoint=email.value_as_string)
    subscription.cfn_options.condition = cdk.CfnCondition(
        scope, "HasAlarmEmail",
        expression=cdk.Fn.condition_not(cdk.Fn.condition_equals(email.value_as_string, "")))
    cdk.CfnOutput(scope, "AlarmTopicArn", value=topic.topic_arn,
                  description="Subscribe on-call paging here (SNS).")
    return topic


def _alarm(scope: Construct, name: str, metric: cw.Metric, above: float,
           description: str) -> cw.Alarm:
    return metric.create_alarm(
        scope, f"{name}Alarm", threshold=above, evaluation_periods=1, alarm_description=description,
        comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
